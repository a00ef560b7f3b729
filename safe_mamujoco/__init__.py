"""Safe Multi-Agent MuJoCo: MaMuJoCo robots split into agents, with cost signals (issue 3)."""
