"""Cost lines of one key in one billed write, added up (monitor.store.billed)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from monitor.records import BilledCost


@dataclass(frozen=True, slots=True)
class MergedLine:
    """The lines of one key in one write, added up; `quantity` None when some line had none (or the
    units differ), since a partial count would give a wrong rate."""

    provider: str
    amount: int
    quantity: Decimal | None
    unit: str

    @classmethod
    def of(cls, c: BilledCost) -> MergedLine:
        return cls(c.provider, c.amount_pico, c.quantity, c.quantity_unit)

    def add(self, c: BilledCost) -> MergedLine:
        amount = self.amount + c.amount_pico
        if self.quantity is not None and c.quantity is not None and c.quantity_unit == self.unit:
            return MergedLine(self.provider, amount, self.quantity + c.quantity, self.unit)
        return MergedLine(self.provider, amount, None, "")

    def quantity_text(self) -> tuple[str | None, str]:
        return (None if self.quantity is None else format(self.quantity, "f")), self.unit
