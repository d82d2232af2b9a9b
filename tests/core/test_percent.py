"""Velocity loss as shown: rounded down, so that a shown value reaches the threshold only if the real one does."""

from hypothesis import given
from hypothesis import strategies as st

from repsense.core.percent import loss_percent, loss_text, threshold_text


def test_a_loss_just_short_of_20_percent_reads_19():
    assert loss_text(0.1954) == "19%"
    assert loss_text(0.2) == "20%"
    assert loss_text(0.29) == "29%", "0.29 * 100 is 28.999...: still 29"


@given(loss=st.floats(0.0, 1.0), threshold_pct=st.integers(1, 99))
def test_a_shown_loss_reaches_a_threshold_only_if_the_real_one_does(loss, threshold_pct):
    threshold = threshold_pct / 100.0  # as --velocity-loss makes it
    assert (loss_percent(loss) >= threshold_pct) == (loss >= threshold)


def test_the_threshold_is_shown_as_given():
    assert threshold_text(0.2) == "20%"
    assert threshold_text(0.175) == "17.5%"
