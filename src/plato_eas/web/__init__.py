"""The read-only web dashboard (``eas web``): the reports as pages, plots drawn on the server,
files of the data directory for download.

It opens the task database read-only, serves only files inside the output directory (real
paths, so no ``..`` or symbolic link leads out), listens on loopback unless told otherwise and
then only with a password. See docs/dashboard.md.
"""
