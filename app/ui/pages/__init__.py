"""Pages: one module per page of the main window. A page takes the AppContext (through attach) and shows one area."""
