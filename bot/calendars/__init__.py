"""Calendar feeds a channel follows, and the meetings their events become (issue #19)."""
