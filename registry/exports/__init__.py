"""Taking the inventory out: streamed CSV, XLSX and JSON with the list page's filters."""
