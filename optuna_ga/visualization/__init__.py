"""Plots of a genetic-algorithm study, like :mod:`optuna.visualization`.

* :func:`plot_generations`: objective per generation (best, mean ± std, worst, best so far);
* :func:`plot_allele_frequency`: share of each gene variant per generation;
* :func:`plot_genealogy`: which trials bred which, by generation;
* :func:`plot_pareto_fronts`: a multi-objective study's Pareto front per generation;
* :func:`write_figures`: these as HTML and PNG files.

With several objectives the plots that need one number per trial (the generations plot, the
genealogy's colours) show each trial's Pareto fitness (minus its front, plus a diversity
tie-break; higher is better), as the sampler ranks trials.

They return plotly figures; :mod:`optuna_ga.visualization.matplotlib` has matplotlib ones.
Both libraries are optional (``pip install "optuna-ga[dashboard]"``) and imported only when a
plot is drawn. The numbers behind every figure come from the pure functions of
:mod:`optuna_ga.visualization._data`, whose docstring states how generations, failed, pruned
and running trials are treated. :mod:`optuna_ga.dashboard` shows the figures live in
optuna-dashboard.

Each ``plot_*`` function reads the study; to draw several figures of one state of a study
(as the dashboard does), read it once with :func:`study_records` and pass the
:class:`StudyRecords` to :func:`generations_figure`, :func:`allele_frequency_figure`,
:func:`genealogy_figure` and :func:`pareto_fronts_figure`, which take the other arguments of
their ``plot_*`` function.

Example:
    >>> import optuna
    >>> from optuna_ga import GeneticSampler
    >>> from optuna_ga import visualization
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=GeneticSampler(population_size=6, seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2
    ...                + len(t.suggest_categorical("a", ["p", "qq"])), n_trials=20)
    >>> [trace.name for trace in visualization.plot_generations(study).data][-1]
    'best so far'
    >>> sorted(trace.name for trace in visualization.plot_allele_frequency(study, ["a"]).data)
    ['p', 'qq']
    >>> visualization.plot_genealogy(study, top_k=1).data[0].name
    'parent → child'
    >>> data = visualization.study_records(study)  # read once, draw three
    >>> len(data.records), data.direction
    (20, 'minimize')
    >>> figures = [visualization.generations_figure(data),
    ...            visualization.allele_frequency_figure(data, ["a"]),
    ...            visualization.genealogy_figure(data, top_k=1)]
    >>> [len(figure.data) for figure in figures] == [
    ...     len(visualization.plot_generations(study).data),
    ...     len(visualization.plot_allele_frequency(study, ["a"]).data),
    ...     len(visualization.plot_genealogy(study, top_k=1).data)]
    True
"""

from optuna_ga.visualization._data import StudyRecords
from optuna_ga.visualization._data import study_records
from optuna_ga.visualization._io import write_figures
from optuna_ga.visualization._plotly import allele_frequency_figure
from optuna_ga.visualization._plotly import genealogy_figure
from optuna_ga.visualization._plotly import generations_figure
from optuna_ga.visualization._plotly import pareto_fronts_figure
from optuna_ga.visualization._plotly import plot_allele_frequency
from optuna_ga.visualization._plotly import plot_genealogy
from optuna_ga.visualization._plotly import plot_generations
from optuna_ga.visualization._plotly import plot_pareto_fronts

__all__ = [
    "StudyRecords",
    "allele_frequency_figure",
    "genealogy_figure",
    "generations_figure",
    "pareto_fronts_figure",
    "plot_allele_frequency",
    "plot_genealogy",
    "plot_generations",
    "plot_pareto_fronts",
    "study_records",
    "write_figures",
]
