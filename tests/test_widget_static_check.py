"""The check that the widget's static files can be found (`s3_file_field.W017`)."""

from __future__ import annotations

from django.test import override_settings

from s3_file_field import checks


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_found_in_the_app_directory():
    assert checks.check_static() == []


@override_settings(STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"])
def test_a_finder_setup_that_misses_them_warns():
    (message,) = checks.check_static()
    assert message.id == "s3_file_field.W017"
    assert "s3_file_field/widget.js" in message.msg
    assert "s3_file_field/widget.css" in message.msg
    assert "npm run build" in (message.hint or "")


def test_a_missing_build_warns(monkeypatch, tmp_path):
    # As a package installed without its built files: the app's static folder is empty.
    from django.contrib.staticfiles import finders

    empty = finders.AppDirectoriesFinder(app_names=["s3_file_field"])
    monkeypatch.setattr(
        empty,
        "storages",
        {"s3_file_field": type(empty.storages["s3_file_field"])(location=str(tmp_path))},
    )
    monkeypatch.setattr(finders, "get_finders", lambda: iter([empty]))
    assert ids(checks.check_static()) == ["s3_file_field.W017"]


@override_settings(
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "rest_framework",
        "s3_file_field",
        "test_app",
    ]
)
def test_without_staticfiles_nothing_is_said():
    assert checks.check_static() == []
