"""PetAdapter.freeze_pet: leave only the delta (PET) parameters trainable, then apply include/exclude lists."""
import fnmatch



class PetAdapter:
    """Upstream `freeze_delta`: every parameter whose name does not match `*mindpet_delta_<kind>*` is frozen;
    names matching a `freeze_include` fnmatch pattern are frozen too, names matching `freeze_exclude` stay
    trainable (exclude wins)."""

    @staticmethod
    def freeze_pet(model, delta_kind, freeze_include=None, freeze_exclude=None):
        delta = f'*mindpet_delta_{delta_kind}*'
        include = [freeze_include] if isinstance(freeze_include, str) else list(freeze_include or [])
        exclude = [freeze_exclude] if isinstance(freeze_exclude, str) else list(freeze_exclude or [])
        for param in model.get_parameters():
            trainable = fnmatch.fnmatch(param.name, delta)
            if any(fnmatch.fnmatch(param.name, pattern) for pattern in include):
                trainable = False
            if any(fnmatch.fnmatch(param.name, pattern) for pattern in exclude):
                trainable = True
            param.requires_grad = trainable
