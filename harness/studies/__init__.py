"""Studies: grids of runs as data (`spec`), analyses that are not search runs (`analysis`), sweeps into a
content-addressed record store (`sweep`), multi-run aggregation (`aggregate`) and reports (`report`, plus
study-specific ones: `hotcarbon`, `ecnas_points`, `allocation`, `lamoo_region`, `forecast`)."""

from harness.studies import allocation as _allocation  # noqa: F401 - registers its report
from harness.studies import ecnas_points as _ecnas_points  # noqa: F401 - registers its report
from harness.studies import forecast as _forecast  # noqa: F401 - registers its report
from harness.studies import hotcarbon as _hotcarbon  # noqa: F401 - registers its report
from harness.studies import lamoo_region as _lamoo_region  # noqa: F401 - registers its report
from harness.studies.report import REPORTS

__all__ = ["REPORTS"]
