"""The step indicator above every wizard step.

It depends on nothing but the step, the kind of device and whether it goes out of band, so
each of its few variants is rendered once per application and kept with it (never in a cache
that outlives the application): as an include it cost about as much as the rest of the step's
own content, on every step shown.
"""

from __future__ import annotations

from flask import current_app
from jinja2 import Environment
from markupsafe import Markup

from wizard.domain import steps
from wizard.domain.steps import Step

TEMPLATE = "enrol/_steps.html"
KEPT = "wizard.step_indicators"  # app.extensions key: at most 20 variants (5 steps x 2 x 2)


def step_indicator(step: Step, key_fob: bool, oob: bool = False) -> Markup:
    env = current_app.jinja_env
    if env.auto_reload:  # templates being edited (debug): show each change at once
        return _render(env, step, key_fob, oob)
    kept = current_app.extensions.setdefault(KEPT, {})
    key = (step, key_fob, oob)
    shown = kept.get(key)
    if shown is None:
        shown = kept[key] = _render(env, step, key_fob, oob)
    return shown


def _render(env: Environment, step: Step, key_fob: bool, oob: bool) -> Markup:
    return Markup(  # noqa: S704 - an autoescaped template's output
        env.get_template(TEMPLATE).render(
            step_order=steps.ORDER,
            step_number=steps.number(step),
            step_titles=steps.titles(key_fob=key_fob),
            oob=oob,
        )
    )
