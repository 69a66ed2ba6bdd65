# Amounts in Chinese business documents are grouped by thousands with a comma (¥20,000,000.00),
# not Django's default of no separator. Dates keep Django's zh-Hans formats.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
