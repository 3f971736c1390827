"""The turn: the pipeline (the data flow, top to bottom), its queue items, barge-in and stop words."""
