"""Domain logic of the annual letter's five sections.

One module per section family, each taking harmonised tables (see docs/ARCHITECTURE.md) and returning plain
tables or small result objects, so that the notebooks stay thin (load, call, plot, save, comment) and every
computation is unit-tested:

* :mod:`~observatoire.analysis.indicators.published`: the national series of published figures (one value per
  indicator, year and sex, with its source), and the helper that turns one into a fact.
* :mod:`~observatoire.analysis.indicators.homicides`: deaths within the couple (section 1).
* :mod:`~observatoire.analysis.indicators.recorded`: violence recorded by police and gendarmerie, national and by
  département (sections 2 and 3).
* :mod:`~observatoire.analysis.indicators.surveys`: victimisation surveys CVS and VRS (section 4).
* :mod:`~observatoire.analysis.indicators.protection`: protection and support measures (section 5).

Missing is missing everywhere: a figure absent for the year asked is ``None`` (and a missing fact), never the
figure of a neighbouring year.
"""
