"""The site's alt text, from a figure's titles and the sentence before it (no build needed)."""

from __future__ import annotations

from bncourse.tooling.site import _first_sentence, alt_text


def test_inline_formulas_are_said_in_plain_symbols_not_dropped():
    text = r"The ratio $\hat x$ of $\sigma^2$ and $\mathrm{Var}[x] + \epsilon$ for $m = 2$. Next."
    assert _first_sentence(text) == "The ratio x̂ of σ^2 and Var[x] + ε for m = 2."


def test_display_formulas_and_markup_leave_no_holes():
    text = "**Look:** the [gradient](x.ipynb) $\\|\\nabla L\\|$ falls $$a = b$$ fast. More."
    assert _first_sentence(text) == "Look: the gradient ‖∇ L‖ falls fast."


def test_alt_text_joins_titles_and_context():
    assert alt_text("Loss; Accuracy", "Both fall.") == "Loss; Accuracy. Both fall."
    assert alt_text("", "") == "A figure of this lesson."
    assert (
        alt_text("Which values share one mean?", "Cells.") == "Which values share one mean? Cells."
    )
