"""The domain of Aansluiten: drafts, steps, registry, tokens, mail. No HTTP in here."""
