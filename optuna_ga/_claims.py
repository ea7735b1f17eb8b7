"""Holding a proposed parameter set in storage, so that no two trials ever evaluate one set.

A trial's proposal is claimed in two steps (a tentative claim, then held once no racing claim
wins; see :func:`settle`); when no whole unseen set can be held, the trial's parameters are
chosen one by one (:func:`claim_gene`); and a finite space whose every point is evaluated or
held stops the study (:func:`stop_if_exhausted`, :class:`SearchSpaceExhausted`). Every read
and write goes through :mod:`optuna_ga._store`; what is proposed is the caller's business.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import optuna
from optuna.study import Study
from optuna.trial import FrozenTrial

from optuna_ga import _store
from optuna_ga._breeding import MAX_ENUMERATION
from optuna_ga._breeding import MAX_RANDOM_DRAWS
from optuna_ga._breeding import Proposal
from optuna_ga._history import History

_logger = optuna.logging.get_logger(__name__)

#: Times a worker proposes when other workers claimed the same parameter set concurrently.
MAX_CLAIM_ROUNDS = 8
#: Upper bound of the random pause before a repeated round, times the round number (seconds).
CLAIM_JITTER_S = 0.005
#: How long a tentative claim waits for a later trial's tentative claim on the same set to be
#: given up, and how often it looks (seconds). See :func:`settle`.
SETTLE_TIMEOUT_S = 10.0
SETTLE_POLL_S = 0.02
#: Values of one gene tried before a trial gives up (see :func:`claim_gene`).
MAX_GENE_VALUES = MAX_RANDOM_DRAWS + MAX_ENUMERATION

#: ``propose(digest, claim_keys)``: the trial's proposal, given the study's digest and the
#: duplicate keys of the sets that other unfinished trials claim.
Propose = Callable[[History, set[str]], Proposal]


class SearchSpaceExhausted(optuna.exceptions.OptunaError):
    """No parameter set is left that was neither evaluated nor held by another trial.

    Raised from the trial's ``suggest_*`` call at which every value would repeat an evaluated or
    held set, so the trial fails before the objective has all its parameters (before it trains
    anything, for an objective that suggests first), and the study is stopped.
    ``study.optimize`` re-raises it unless it is in ``catch``: pass
    ``catch=(SearchSpaceExhausted,)`` to end a run on a finite space quietly.
    """


def claim(study: Study, trial: FrozenTrial, generation: int, propose: Propose) -> dict[str, Any]:
    """Propose the trial's genome and hold it in storage, so that no other worker runs it.

    Returns the genome, or ``{}`` when nothing can be proposed (no parameter known yet, or
    no unseen set held with the distributions known now): the trial's parameters are then
    chosen one by one (:func:`claim_gene`).
    """
    atomic = _store.claims_are_atomic(study)
    proposal = Proposal({}, "random")
    for round_ in range(MAX_CLAIM_ROUNDS):
        if round_ > 0:
            # Racing workers that both yielded would often pick alike again: desynchronise.
            time.sleep(random.uniform(0.0, CLAIM_JITTER_S * round_))
        with _store.claim_guard(study):
            digest, claims = _store.read(study, trial)
            proposal = propose(digest, digest.claim_keys(c.params for c in claims))
            if proposal.duplicate or not proposal.params:
                break
            if atomic:  # no other thread can claim between this read and this write
                _hold(study, trial, generation, proposal)
                return proposal.params
            _store.write_claim(study, trial, proposal.params)
        if settle(study, trial, proposal.params):
            _hold(study, trial, generation, proposal)
            return proposal.params
    # Hold nothing (withdraw a tentative claim given up). The objective's parameters are
    # then chosen one by one as it suggests them (see ``claim_gene``): a distribution not
    # suggested yet may have changed since the last trial, so the space may not be
    # exhausted after all.
    _store.write_proposal(
        study, trial, {}, generation=generation, parents=[], operator="random", held=False
    )
    return {}


def claim_gene(
    study: Study,
    trial: FrozenTrial,
    name: str,
    values: Iterable[Any],
    genome: dict[str, Any],
    generation: int,
    *,
    enqueued: bool = False,
) -> Any:
    """A value for a gene the trial's genome lacks, held with the rest of its parameters.

    The value is the first of ``values`` (the gene's random draw, then other draws, then the
    gene's values in random order; at most :data:`MAX_GENE_VALUES` are tried) for which the
    parameters so far (with the genome's values for the genes still to come) repeat no
    evaluated or held set. A deterministic define-by-run objective whose parameters so far agree
    with an evaluated trial on every gene it used would run that trial again.

    An ``enqueued`` trial (``study.enqueue_trial`` with some parameters only; ``genome`` holds
    them) that finds every value repeating a set takes the first draw and runs (with a
    warning), as Optuna would, rather than fail: the user asked for it.

    Raises:
        SearchSpaceExhausted: If every value repeats a set, or the values that do not were
            taken by other workers in every round (with nothing evaluated yet, the first
            draw is taken instead, as Optuna would). The study is stopped too, unless the
            space is known not to be exhausted (one structure): then only the parameters the
            trial already has are a dead end.
    """
    atomic = _store.claims_are_atomic(study)
    values = itertools.islice(values, MAX_GENE_VALUES)
    first = None
    for _ in range(MAX_CLAIM_ROUNDS):
        with _store.claim_guard(study):
            digest, claims = _store.read(study, trial)
            claim_keys = digest.claim_keys(c.params for c in claims)
            params = None
            for value in values:
                first = value if first is None else first
                candidate = {**genome, **trial.params, name: value}
                if not digest.repeats(candidate, claim_keys):
                    params = candidate
                    break
            if params is None:
                break
            if atomic:  # no other thread can claim between this read and this write
                _store.hold(study, trial, params)
                return params[name]
            _store.write_claim(study, trial, params)
        if settle(study, trial, params):
            _store.hold(study, trial, params)
            return params[name]
    if enqueued:
        _logger.warning(
            f"Trial {trial.number} was enqueued with some parameters fixed: every value of "
            f"{name!r} repeats an evaluated or held parameter set, so it runs one again."
        )
        return first
    if not _store.history(study, refresh=False).structures:
        return first
    _store.write_proposal(
        study, trial, {}, generation=generation, parents=[], operator="exhausted", held=False
    )
    digest, claims = _store.read(study, trial)
    # With one structure, whether the space is exhausted is known: if it is not, only this
    # trial's parameters so far (taken before other workers took the rest) are a dead end.
    # A conditional space has no such test; there the bounded search above decides.
    if len(digest.structures) == 1 and not digest.is_exhausted(c.params for c in claims):
        _logger.warning(f"Trial {trial.number}: no unseen set is left with its parameters so far.")
        raise SearchSpaceExhausted(
            f"Trial {trial.number}: no value of {name!r} is left that, with the parameters so "
            f"far {trial.params}, was neither evaluated nor held by another trial; the trial "
            "fails without being evaluated, and the study goes on."
        )
    _logger.warning(f"Trial {trial.number}: no unseen parameter set is left; it fails.")
    stop(study)
    raise SearchSpaceExhausted(
        f"Trial {trial.number}: every parameter set of the search space was evaluated or is "
        f"held by another trial (no value of {name!r} is left with the parameters so far); "
        "the trial fails without being evaluated and the study stops. (A trial stands for "
        "every value of the parameters it did not suggest: if the objective now suggests "
        "parameters that earlier trials did not, run it in a new study.)"
    )


def settle(study: Study, trial: FrozenTrial, params: dict[str, Any]) -> bool:
    """Whether the trial may hold ``params``, which it has claimed tentatively.

    Two workers may claim the same set at the same moment; each wrote its claim before it
    reads again here, so the later reader sees both. A trial gives the set up when another
    trial holds it, claims it with a smaller trial number, or has evaluated it meanwhile.
    Against a tentative claim of a later trial it waits until that trial gives the set up
    (it sees this earlier claim when it reads) or holds it (it read before this claim was
    written). So no two trials ever hold one set, and of racing claims one is held.
    A claim still undecided after :data:`SETTLE_TIMEOUT_S` (its worker died) is given up.
    """
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        digest, claims = _store.read(study, trial)
        keys = digest.duplicate_keys(params)
        if not keys.isdisjoint(digest.evaluated_hashes):
            return False
        rivals = [c for c in claims if not keys.isdisjoint(digest.duplicate_keys(c.params))]
        if not rivals:
            return True
        if any(c.held or c.number < trial.number for c in rivals):
            return False
        if time.monotonic() > deadline:
            return False
        time.sleep(SETTLE_POLL_S)


def _hold(study: Study, trial: FrozenTrial, generation: int, proposal: Proposal) -> None:
    _store.write_proposal(
        study,
        trial,
        proposal.params,
        generation=generation,
        parents=proposal.parents,
        operator=proposal.operator,
        score=proposal.score,
    )


def stop_if_exhausted(study: Study, trial: FrozenTrial) -> None:
    """Stop the study if every point of a finite space is evaluated or claimed, ``trial``'s too."""
    if not _store.history(study, refresh=False).may_exhaust():
        return
    digest, claims = _store.read(study, trial)
    if digest.is_exhausted([*(c.params for c in claims), trial.params]):
        _logger.info("Every point of the finite search space has been tried; stopping.")
        stop(study)


def stop(study: Study) -> None:
    """``study.stop()``, unless no optimize loop runs (ask-and-tell)."""
    with contextlib.suppress(RuntimeError):  # ask-and-tell: no optimize loop to stop
        study.stop()
