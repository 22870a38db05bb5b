"""AdamW: Adam with decoupled weight decay (Keras 3 defaults)."""

from .adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay: `w -= w * weight_decay * lr` before each Adam update.

    Args:
        learning_rate: float >= 0 or `LearningRateSchedule` (default 0.001).
        weight_decay: float >= 0 (default 0.004); required.
        beta_1, beta_2, epsilon, amsgrad: as in `Adam`.
        **kwargs: base options (`name`, `clipnorm`, `clipvalue`, `global_clipnorm`,
            legacy `lr`, `decay`).

    Example:
        >>> opt = AdamW(learning_rate=1e-3, weight_decay=0.01)
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError(
                "AdamW(weight_decay=None): weight_decay must be a float >= 0. "
                "Use Adam for no weight decay."
            )
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
