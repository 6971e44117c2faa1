"""einsum's contraction in torch's steps, so that its graph is torch's (no opt_einsum: left to right).

Each operand is laid out over every label of the equation: a repeated label becomes a diagonal (moved back to
its first place), missing labels become trailing size-1 dims, and one permute puts the output labels first and
the summed ones after them (in label order). A summed label that only one operand has is summed there first.
Then the operands are contracted pairwise from the left: a pair with nothing to sum is a product; otherwise
the pair is permuted and reshaped to (batch, left-only, summed) and (batch, summed, right-only), multiplied by
bmm, and reshaped and permuted back. The last result is viewed to the output's shape.
"""
from math import prod


def contract(xs, labels, out):
    """``xs``: the operands (validated, broadcastable), ``labels``: each operand's label per dim (a label may
    repeat), ``out``: the output's labels. Returns the einsum result."""
    summed = sorted({c for lab in labels for c in lab if c not in out})
    order = list(out) + summed
    pos = {c: i for i, c in enumerate(order)}
    ops = [_lay_out(x, list(lab), order) for x, lab in zip(xs, labels)]
    present = [set(lab) for lab in labels]
    if len(ops) == 1:
        dims = [pos[c] for c in summed]
        return ops[0].sum(dims) if dims else ops[0]
    count = {c: sum(c in p for p in present) for c in summed}
    for k, p in enumerate(present):
        own = [pos[c] for c in summed if count[c] == 1 and c in p]
        if own:
            ops[k] = ops[k].sum(own, keepdim=True)
    last = {c: max(k for k, p in enumerate(present) if c in p) for c in summed}
    r = ops[0]
    for k in range(1, len(ops)):
        b, dims = ops[k], []
        for c in summed:
            if count[c] > 1 and last[c] == k:
                d = pos[c]
                sa, sb = r.shape[d] != 1, b.shape[d] != 1
                if sa and sb:
                    dims.append(d)
                elif sa:  # a label of size 1 on one side is summed on the other before the product
                    r = r.sum(d, keepdim=True)
                elif sb:
                    b = b.sum(d, keepdim=True)
        r = _pair(r, b, dims, len(ops) == 2) if dims else r * b
    if summed:
        r = r.view([r.shape[pos[c]] for c in out])
    return r


def _lay_out(x, lab, order):
    # a repeated label: its diagonal, moved back to where the label first is
    while len(set(lab)) != len(lab):
        c = next(c for c in lab if lab.count(c) > 1)
        i = lab.index(c)
        j = lab.index(c, i + 1)
        x = x.diagonal(0, i, j).movedim(-1, i)
        del lab[j]
    for c in order:
        if c not in lab:
            x = x.unsqueeze(x.dim())
            lab.append(c)
    return x.permute([lab.index(c) for c in order])


def _pair(a, b, summed, may_swap):
    """Contract ``a`` and ``b`` (same number of dims, sizes equal or 1) over ``summed`` (dims of the same size,
    not 1, in both). With two operands, torch's bmm takes first the one whose own dims do not end last."""
    if may_swap:
        own_a = [i for i in range(a.dim()) if i not in summed and a.shape[i] != 1 and b.shape[i] == 1]
        own_b = [i for i in range(a.dim()) if i not in summed and b.shape[i] != 1 and a.shape[i] == 1]
        if own_a and own_b and own_b[-1] < own_a[-1]:
            a, b = b, a
    both, left, right = [], [], []
    for i in range(a.dim()):
        sa, sb = a.shape[i] != 1, b.shape[i] != 1
        if i in summed:
            continue
        if sa and sb:
            both.append(i)
        elif sa:
            left.append(i)
        else:
            right.append(i)
    n_both, n_left, n_sum = (prod(a.shape[i] for i in dims) for dims in (both, left, summed))
    n_right = prod(b.shape[i] for i in right)
    a3 = a.permute(both + left + summed + right).reshape(n_both, n_left, n_sum)
    b3 = b.permute(both + summed + right + left).reshape(n_both, n_sum, n_right)
    r = a3.bmm(b3)
    r = r.view([a.shape[i] for i in both + left] + [1] * len(summed) + [b.shape[i] for i in right])
    where = both + left + summed + right
    return r.permute([where.index(i) for i in range(len(where))])

