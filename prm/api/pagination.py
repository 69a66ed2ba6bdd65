from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Page-numbered lists: `?page=2&page_size=100`, never more than 500 rows a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
