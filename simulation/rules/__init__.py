"""The theory as pure functions over numpy arrays with a leading batch axis.

Shapes: `(B, N)` per state, `(B, N, N)` per directed pair, where `x[b, i, j]` is "i's view of j"
unless a docstring says otherwise. Nothing here keeps state, draws randomness or reads files.

- pairs:    the directed-pair matrices' shared convention (no relation with oneself)
- power:    relative power, proximity (loss-of-strength gradient), polarity, internal balancing
- threat:   perceived intentions, the security dilemma, Walt's threat and Waltz's power threat
- interest: material self-interest (arms, aid, energy, markets; what past instruments built)
- instruments: what states do toward each other (arms, sanctions, aid, troops, exercises), chosen
- choice:   desired stance (balancing, bandwagoning, interest), inertia, mutuality

The yearly step that composes them is `simulation.engine.dynamics`.
"""
