"""Scale-out: the same self-play loop with its executor, rollouts and updates spread over workers.

Nothing here is imported by a one-process run. Ray is an optional dependency
(``pip install 'azr[ray]'``); torch.distributed ships with torch.
"""
