"""Plots of a genetic-algorithm study, like :mod:`optuna.visualization`.

* :func:`plot_generations`: objective per generation (best, mean ± std, worst, best so far);
* :func:`plot_allele_frequency`: share of each gene variant per generation;
* :func:`plot_genealogy`: which trials bred which, by generation;
* :func:`write_figures`: the three as HTML and PNG files.

They return plotly figures; :mod:`optuna_ga.visualization.matplotlib` has matplotlib ones.
Both libraries are optional (``pip install "optuna-ga[dashboard]"``) and imported only when a
plot is drawn. The numbers behind every figure come from the pure functions of
:mod:`optuna_ga.visualization._data`, whose docstring states how generations, failed, pruned
and running trials are treated. :mod:`optuna_ga.dashboard` shows the figures live in
optuna-dashboard.
"""

from optuna_ga.visualization._io import write_figures
from optuna_ga.visualization._plotly import plot_allele_frequency
from optuna_ga.visualization._plotly import plot_genealogy
from optuna_ga.visualization._plotly import plot_generations

__all__ = ["plot_allele_frequency", "plot_genealogy", "plot_generations", "write_figures"]
