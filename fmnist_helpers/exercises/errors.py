"""What a Python or NumPy error raised by a student's function most often means, in one sentence a student can act
on: `and` or a chained comparison on arrays, `&` without brackets, a missing `return`, a float where an index is
asked, shapes that do not line up, an index one past the end, an in-place division of whole-number pixels, a
signature other than the task's.

A check shows the error itself and then this sentence; an error it does not know gets none.

Usage:
    explain_error("ValueError: The truth value of an array with more than one element is ambiguous. ...")
    # '`and`, `or`, `not`, `if` or a chained comparison met a whole array ...'
"""
from __future__ import annotations

import re

_RULES: tuple[tuple[str, str], ...] = (
    (r"truth value of an? (array|Series|DataFrame).* is ambiguous",
     "a whole array met `and`, `or`, `not`, `if`, or a chained comparison such as `a == b != c`, which need one "
     "True or False; combine element-wise conditions with `&`, `|` and `~`, each comparison in its own brackets, "
     "`(a == b) & (c != d)`, since `&` binds tighter than `==`"),
    (r"'NoneType' object (is not subscriptable|has no attribute|is not iterable|cannot be interpreted)"
     r"|unsupported operand type\(s\) for .*'NoneType'",
     "a value was None: a function without `return` gives None, and so do in-place methods such as `list.sort()`, "
     "`list.append()` and `np.random.shuffle()`; return the value, or use `sorted()` or `rng.permutation()`"),
    (r"(list|tuple) indices must be integers or slices, not (float|numpy\.float)"
     r"|only integers, slices .* are valid indices"
     r"|'float' object cannot be interpreted as an integer"
     r"|slice indices must be integers",
     "a float was used where Python needs a whole number (an index, a slice bound or `range`): `/` always gives a "
     "float, `//` or `int()` a whole number"),
    (r"only (0-dimensional|length-1|size-1) arrays can be converted to Python scalars"
     r"|can only convert an array of size 1 to a Python scalar",
     "`float()`, `int()` or a scalar slot got an array of several values, or of none: a reduction (`.mean()`, "
     "`.sum()`) missing, or a slice that came out empty or too long; a batch `x[start:start + batch_size]` ends "
     "`batch_size` after its start"),
    (r"save_weights_only=True.*must end in `?\.weights\.h5",
     "`save_weights_only=True` keeps the weights alone, which Keras writes only to a `.weights.h5` file; to save "
     "the whole model to a `.keras` file, as the task asks, leave `save_weights_only` at its default, False"),
    (r"Expected shape \(None, \d+\), but input has incompatible shape \(\w+, \d+, \d+",
     "the model's first layer takes flat vectors, but it was given images with rows and columns: start it with "
     "`keras.Input((28, 28))` and a `Flatten()` layer, which turns each image into its 784 values"),
    (r"operands could not be broadcast together",
     "two arrays whose shapes do not line up were combined element by element: check the axis of each sum or mean "
     "(`keepdims=True` keeps it for broadcasting), and that both arrays hold the same images"),
    (r"shapes \(.*\) and \(.*\) not aligned|matmul: Input operand .* has a mismatch in its core dimension"
     r"|size \d+ is different from \d+",
     "a matrix product whose inner sides differ: `a @ b` needs a's last axis as long as b's first; is one of them "
     "the wrong way round (`.T`), or not flattened?"),
    (r"index -?\d+ is out of bounds for axis|list index out of range|tuple index out of range",
     "an index past the end: Python counts from 0, so the last of n entries is n - 1 (a loop `range(n + 1)` or "
     "`<=` goes one too far)"),
    (r"Cannot cast ufunc '\w+' output from dtype\('float\d+'\) to dtype\('u?int\d+'\)"
     r"|output array is read-only",
     "an in-place operation (`/=`, `-=`) on whole-number (uint8) pixels, which cannot hold the fractions; make a "
     "float copy first, `x.astype('float32') / 255`, which also leaves the caller's array as it was"),
    (r"cannot reshape array of size (\d+) into shape",
     "a reshape to a shape that holds another number of values: the sizes of the new shape must multiply to the "
     "array's size (`-1` lets NumPy work one side out)"),
    (r"too many indices for array",
     "more indices than the array has axes: check its `.shape` (a batch of images is (n, height, width), a "
     "flattened one (n, pixels))"),
    (r"Unrecognized keyword arguments? passed to (\w+)|__init__\(\) got an unexpected keyword argument",
     "a keyword argument the layer or class does not take: check its spelling against the documentation "
     "(`activation`, not `activations`; `filters`, `kernel_size`, `strides`, `padding`)"),
    (r"missing \d+ required positional argument|takes \d+ positional arguments? but \d+ (was|were) given"
     r"|got an unexpected keyword argument",
     "the function's arguments are not the ones the task names: the check calls it with the signature the task "
     "gives, in that order"),
    (r"^NameError: name '(\w+)' is not defined",
     "the function uses a name it does not define: a variable from another cell, a typo, or an import the cell "
     "left out; everything it needs must come in as an argument or be imported"),
    (r"object of type '(method|builtin_function_or_method|function)' has no len\(\)"
     r"|'(method|builtin_function_or_method|function)' object is not (subscriptable|iterable)"
     r"|unsupported operand type\(s\) for .*'(method|builtin_function_or_method|function)'",
     "a method or function was used without calling it: `self.model.get_weights` is the method itself, "
     "`self.model.get_weights()` its result; add the brackets"),
    (r"Argument `output` must have rank|`y_true` and `y_pred` must have|Shapes .* are incompatible"
     r"|logits and labels must have the same",
     "a Keras loss was given its arguments in the wrong order or of the wrong kind: a loss takes the true labels "
     "first, then the predictions, `loss_fn(y_true, y_pred)`; integer labels 0-9 go with "
     "`SparseCategoricalCrossentropy`, one-hot rows with `CategoricalCrossentropy`"),
    (r"Could not interpret (activation|optimizer|loss|metric|initializer)",
     "a name Keras does not know: names are lower case strings such as 'relu', 'softmax', 'adam', "
     "'sparse_categorical_crossentropy', or the objects themselves"),
    (r"expected (min_)?ndim=(\d+), found ndim=(\d+)|expected axis -1 of input shape to have value"
     r"|is incompatible with the layer",
     "a layer received inputs of another shape than it was built for: a Dense layer after a Conv2D needs a "
     "`Flatten()` first, and the first layer's input shape must be the images' shape, (28, 28) or (28, 28, 1)"),
    (r"'numpy\.ndarray' object has no attribute 'append'",
     "NumPy arrays have no `append`: collect the values in a Python list and convert it once, `np.array(values)`"),
    (r"'(int|float|numpy\.\w+)' object is not iterable",
     "a loop or `sum` over a single number: to count up to n, loop over `range(n)`"),
    (r"'(int|float|tuple|list|str|numpy\.ndarray)' object is not callable",
     "brackets after something that is no function: a name such as `sum`, `max` or `len` reused for a value "
     "earlier, or a missing `*` in `2(x + 1)`"),
    (r"unhashable type",
     "a list or an array used as a dictionary key or set member: use a tuple, or `int(...)` for a single number"),
    (r"can only concatenate str|must be str, not",
     "text joined with a number: convert it, `str(n)`, or write an f-string, `f'{n} images'`"),
    (r"No gradients provided for any variable|gradients? (is|are) None",
     "the gradients are None: the tape records only what runs inside `with tf.GradientTape() as tape:`, so the "
     "model's forward pass and the loss must both be computed inside that block"),
    (r"not supported between instances of '\w+' and 'NoneType'|not supported between instances of 'NoneType'",
     "a comparison with None: a best-so-far that starts as None cannot be compared with a number; start it at "
     "`-np.inf` (or `float('-inf')`) for a highest best, `np.inf` for a lowest"),
    (r"invalid value for `units`|expected a positive integer\. Received: units=",
     "a layer's `units` is one whole number: for a tuple of sizes, add one `Dense` per entry in a loop, "
     "`for units in hidden: model.add(keras.layers.Dense(units, activation='relu'))`"),
    (r"Quantiles must be in the range \[0, 1\]|Percentiles must be in the range \[0, 100\]",
     "`np.quantile` takes fractions (0.025, 0.975), `np.percentile` takes percents (2.5, 97.5): the two were mixed "
     "up"),
    (r"^ZeroDivisionError|division by zero",
     "a division by zero: a count that can be 0 (an empty class, an empty input) needs a case of its own"),
    (r"^UnboundLocalError",
     "a variable read before the line that sets it: is it set only inside an `if` or a loop that did not run?"),
    (r"^RecursionError",
     "the function calls itself with no end; a loop is what is wanted"),
    (r"setting an array element with a sequence|inhomogeneous",
     "an array built from parts of different lengths: each row must have the same number of entries"),
    (r"^KeyError",
     "a dictionary was asked for a key it does not hold: check the key's spelling and type (`'units'` is not "
     "`'Units'`, 1 is not `'1'`)"),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE | re.MULTILINE), says) for pattern, says in _RULES)


def explain_error(text: str) -> str | None:
    """The likeliest cause of an error, given as 'TypeError: the message' (`untrusted.error_text`); None when the
    error is not one of the common ones."""
    if not isinstance(text, str):
        return None
    for pattern, says in _COMPILED:
        if pattern.search(text):
            return says
    return None
