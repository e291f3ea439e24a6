"""The ledger's pages: review, recording, my entries, corrections, Excel import, declaring."""
