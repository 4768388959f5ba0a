"""The Case aggregate's lifecycle, one module per phase; `services.supervision.domainmodel.Case` composes them.

- base.py: what every step shares: the case's state, who acts (parties), the checks, the lifecycle event base
  (Transitioned) and how a step is recorded; `takes`, which says what command of shared/language/contracts/
  lifecycle.py a method takes;
- triage.py: routing (by the rules or the bureau), transfer, assignment, report up, redirection, objections;
- acceptance.py: direct receipt, acceptance, 不予受理 / 不再受理, the repeat check, a new matter, diversion;
- handling.py: handling steps, conversion, extension, the opinion, the evaluation, withdrawal;
- review.py: review and re-review requests, opening, hearings, decisions, finality;
- receipt.py: the review and re-review windows counted from the petitioner's receipt of the written answer;
- oversight.py: the platform's watch over the clocks (provisional deadlines counted again).

Each phase declares its events (subclasses of Transitioned, with what each keeps on the case) and its methods; the
Case redefines the events as its own, so they are stored under `services.supervision.domainmodel:Case.<Event>`
as before the split.
"""
