"""The stage sequence model: a hidden Markov model over the utterances of one contact.

States are the taxonomy's stages plus ``other``. Each utterance gives, per stage, how likely it is under that
stage (the emission, from the utterance classifier): an utterance with stage evidence favours its stage, one
without ("好的", "请稍等", "What time?") is about equally likely under every stage, so the path stays where the
neighbouring utterances put it. Moving to another stage costs ``switch_prob``; a contact starts in ``other``
with probability ``other_start`` and stays there only while nothing points at a stage, so a contact with no
stage evidence at all is ``other`` and utterances before the first evidence take the stage that follows.
Customers open new topics: entering a stage on an agent, bot or system utterance costs ``context_switch_factor``
times the switch probability, so an agent's "anything else?" stays with the topic it closes. And a topic starts
where it is first mentioned: with ``entry`` (per utterance and state) the cost of switching *into* a state is
scaled by the utterance's evidence for it, so between two topics the utterances without evidence ("谢谢",
"Thank you.") stay with the topic they follow instead of being handed to the next one by a near-tie.

Viterbi gives the labels (contiguous runs become the topical segments); forward–backward gives each label's
posterior probability, the reported confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StageHMM:
    """Switch and start probabilities of the stage sequence; ``n_states`` counts the stages plus ``other``."""

    n_states: int
    switch_prob: float = 0.02
    other_start: float = 0.5
    context_switch_factor: float = 1.0

    def _transition(self, switch_prob: float) -> np.ndarray:
        k = self.n_states
        transition = np.full((k, k), switch_prob / max(k - 1, 1))
        np.fill_diagonal(transition, 1.0 - switch_prob)
        return transition

    def _transitions(self, customer: np.ndarray | None, steps: int,
                     entry: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per step (from t-1 to t) transition matrices and the start distribution."""
        k = self.n_states
        start = np.full(k, (1.0 - self.other_start) / max(k - 1, 1))
        start[-1] = self.other_start
        by_customer = self._transition(self.switch_prob)
        by_context = self._transition(min(self.switch_prob * self.context_switch_factor, 0.5))
        if customer is None:
            customer = np.ones(steps, dtype=bool)
        transitions = np.where(np.asarray(customer)[:, None, None], by_customer, by_context)
        if entry is not None:
            switching = ~np.eye(k, dtype=bool)
            transitions = np.where(switching, transitions * np.clip(entry, 0.0, None)[:, None, :], 0.0)
            leaving = transitions.sum(axis=2, keepdims=True)
            transitions *= np.minimum(1.0, 0.9 / np.maximum(leaving, 1e-12))  # stay at least 10 %
            transitions[:, np.arange(k), np.arange(k)] = 1.0 - transitions.sum(axis=2)
        return transitions, start

    def decode(self, emissions: np.ndarray, customer: np.ndarray | None = None,
               entry: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best state path and, per step, the posterior probability of the state on it.

        ``emissions``: (steps, states) likelihoods, the last column being ``other``; ``customer``: per step,
        whether the utterance is the customer's (None: all are); ``entry``: (steps, states) factors on the
        probability of switching into each state at each step (None: all 1).
        """
        steps = emissions.shape[0]
        if steps == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        transitions, start = self._transitions(customer, steps, entry)
        log_t = np.log(transitions)
        log_e = np.log(np.clip(emissions, 1e-12, None))
        score = np.log(start) + log_e[0]
        back = np.zeros((steps, self.n_states), dtype=np.int64)
        for t in range(1, steps):
            candidates = score[:, None] + log_t[t]
            back[t] = candidates.argmax(axis=0)
            score = candidates.max(axis=0) + log_e[t]
        path = np.empty(steps, dtype=np.int64)
        path[-1] = int(score.argmax())
        for t in range(steps - 1, 0, -1):
            path[t - 1] = back[t, path[t]]
        posterior = self.posteriors(emissions, customer, entry)
        return path, posterior[np.arange(steps), path]

    def posteriors(self, emissions: np.ndarray, customer: np.ndarray | None = None,
                   entry: np.ndarray | None = None) -> np.ndarray:
        """Forward–backward state marginals, (steps, states), scaled per step."""
        steps = emissions.shape[0]
        transitions, start = self._transitions(customer, steps, entry)
        e = np.clip(emissions, 1e-12, None)
        alpha = np.empty_like(e)
        current = start * e[0]
        alpha[0] = current / current.sum()
        for t in range(1, steps):
            current = (alpha[t - 1] @ transitions[t]) * e[t]
            alpha[t] = current / current.sum()
        beta = np.ones_like(e)
        for t in range(steps - 2, -1, -1):
            current = transitions[t + 1] @ (e[t + 1] * beta[t + 1])
            beta[t] = current / current.sum()
        joint = alpha * beta
        return joint / joint.sum(axis=1, keepdims=True)
