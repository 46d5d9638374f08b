"""Invoice PDFs with borb: the renderer (a pure function of the invoice document) and its process pool."""
