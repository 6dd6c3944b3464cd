from django.urls import include, path

# The same prefix as test_app, so that both libraries are driven the same way.
urlpatterns = [path("api/s3-upload/", include("s3_file_field.urls"))]
