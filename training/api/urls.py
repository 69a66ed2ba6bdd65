from .views import CourseMaterialViewSet, CourseViewSet, TrainingRecordViewSet, TrainingSessionViewSet


def register(router):
    router.register("courses", CourseViewSet, basename="course")
    router.register("course-materials", CourseMaterialViewSet, basename="course-material")
    router.register("training-sessions", TrainingSessionViewSet, basename="training-session")
    router.register("training-records", TrainingRecordViewSet, basename="training-record")
