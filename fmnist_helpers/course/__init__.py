"""The course layer: the machinery that runs, checks and reports the notebooks: a notebook's start
(`context`), the runner and its command line (`runner`, `cli`), the report (`report`), notebook hygiene and the
student edition (`notebooks`, `editions`), the static site (`site`) and the pytest plugin (`pytest_plugin`).

Usage:
    from fmnist_helpers import start_notebook
    run = start_notebook("01_exploration", profile="smoke")
"""
