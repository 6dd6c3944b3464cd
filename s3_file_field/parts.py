"""How a file is split into parts: planned once at prepare, carried by its upload signature."""

from __future__ import annotations

from dataclasses import dataclass

from .conf import S3_MAX_PART_COUNT, S3_MAX_PART_SIZE, MiB


@dataclass(frozen=True)
class PartPlan:
    file_size: int
    part_size: int
    # False: one PUT of the whole file.
    multipart: bool

    @classmethod
    def for_file(cls, file_size: int, part_size: int) -> PartPlan:
        """A file no larger than one part goes up in one PUT. Otherwise parts are `part_size`,
        grown (in whole MiB) for files that would need more than 10,000 parts."""
        if file_size <= part_size:
            return cls(file_size, part_size, multipart=False)
        needed = -(-file_size // S3_MAX_PART_COUNT)
        if needed > part_size:
            part_size = min(-(-needed // MiB) * MiB, S3_MAX_PART_SIZE)
        return cls(file_size, part_size, multipart=True)

    @property
    def count(self) -> int:
        if not self.multipart:
            return 1
        return max(1, -(-self.file_size // self.part_size))

    def size_of(self, part_number: int) -> int:
        if not self.multipart:
            return self.file_size
        if part_number < self.count:
            return self.part_size
        return self.file_size - self.part_size * (self.count - 1)
