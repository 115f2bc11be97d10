"""The step indicator above every wizard step.

It depends on nothing but the step, the kind of device and whether it goes out of band, so
each of its few variants is rendered once per process and kept: as an include it cost about
as much as the rest of the step's own content, on every step shown.
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from jinja2 import Environment
from markupsafe import Markup

from wizard.domain import steps
from wizard.domain.steps import Step

TEMPLATE = "enrol/_steps.html"


def step_indicator(step: Step, key_fob: bool, oob: bool = False) -> Markup:
    env = current_app.jinja_env
    if env.auto_reload:  # templates being edited (debug): show each change at once
        return _render(env, step, key_fob, oob)
    return _kept(env, step, key_fob, oob)


def _render(env: Environment, step: Step, key_fob: bool, oob: bool) -> Markup:
    return Markup(  # noqa: S704 - an autoescaped template's output
        env.get_template(TEMPLATE).render(
            step_order=steps.ORDER,
            step_number=steps.number(step),
            step_titles=steps.titles(key_fob=key_fob),
            oob=oob,
        )
    )


@lru_cache(maxsize=64)  # a few per app: 5 steps, 2 device kinds, in band or not
def _kept(env: Environment, step: Step, key_fob: bool, oob: bool) -> Markup:
    return _render(env, step, key_fob, oob)
