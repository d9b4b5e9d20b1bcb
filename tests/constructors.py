"""Consumer classes whose constructors take options in every way Python allows, for the
checks of `consumers[].options` against them."""


class _Consumer:
    def consume(self, amqp, msg) -> None:
        pass

    def shutdown(self, exception) -> None:
        pass


class NoArguments(_Consumer):
    pass


class Shop(_Consumer):
    def __init__(self, shop, retries=3, *, region, dry_run=False) -> None:
        self.options = {"shop": shop, "retries": retries, "region": region, "dry_run": dry_run}


class AnyOptions(_Consumer):
    def __init__(self, shop, **options) -> None:
        self.options = {"shop": shop, **options}


class PositionalOnly(_Consumer):
    def __init__(self, shop, /, *args) -> None:
        pass


class Unreadable(_Consumer):
    """A class whose signature inspect cannot read."""

    __signature__ = "not a signature"
