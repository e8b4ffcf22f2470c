"""The main window and what frames it: menus, projects, theme, error handling, welcome."""
