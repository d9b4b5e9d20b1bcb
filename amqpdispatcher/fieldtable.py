"""The walk through an AMQP field table, shared by the config's check of declared arguments and
the transport's check of message headers: every key, then every value it holds, lists and
nested tables gone through, each with the place where it stands. Each caller judges keys and
values by its own rules and names the place its own way."""

from collections.abc import Callable


class TableWalk:
    """`check_key(where, key)` judges each key of a table at `where`, and returns whether its
    value is to be gone through; `check_value(where, value)` judges each value that is neither a
    list nor a table; `join(where, key)` names the place of a key's value."""

    def __init__(
        self,
        check_key: Callable[[str, object], bool],
        check_value: Callable[[str, object], None],
        join: Callable[[str, object], str],
    ) -> None:
        self._check_key = check_key
        self._check_value = check_value
        self._join = join

    def table(self, table: dict, where: str) -> None:
        for key, value in table.items():
            if self._check_key(where, key):
                self.value(value, self._join(where, key))

    def value(self, value: object, where: str) -> None:
        if isinstance(value, dict):
            self.table(value, where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.value(item, f"{where}[{index}]")
        else:
            self._check_value(where, value)
