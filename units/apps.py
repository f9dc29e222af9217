from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = "单位与组织"

    def ready(self):
        from . import signals  # noqa: F401
