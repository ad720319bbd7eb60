"""Transit-search algorithms. Each takes a light curve and search settings and returns a
:class:`SearchResult`; the task wrapper in :mod:`..tasks.transit_search` does the rest."""
