"""The portal's locale formats (settings.FORMAT_MODULE_PATH): one way to write a date and a time
on every page, in every template (`|date`, `|date:"DATETIME_FORMAT"`) and in messages written in
Python (portal.display.day / moment). Names not set here come from Django's locale."""
