"""The letters' colours, shared by the static charts (:mod:`~observatoire.outputs.charts`) and the interactive ones
(:mod:`~observatoire.outputs.interactive`).

Why a module of its own: both chart modules draw with the same colours, and neither should import the other for
them (the static chart export embeds the interactive version, so charts imports interactive).
"""

from __future__ import annotations

#: The Okabe-Ito colour-blind-safe palette, by name.
OKABE_ITO = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "reddish_purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
#: Series colours in order of use: Okabe-Ito, strongest contrasts on white first (yellow last).
PALETTE = list(OKABE_ITO.values())
#: Neutral colour for reference lines, breaks and secondary text.
GREY = "#6E6E6E"
