"""A tiny Django project for django-s3-file-field 1.1.0, run by `_legacy_child.py` only.

It lives apart from `test_app` because 1.1.0 is imported under the same name as the library in
this repository (`s3_file_field`) and so runs in a virtualenv of its own.
"""
