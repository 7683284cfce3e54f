"""The kiosk's Qt side: its window, the overlay drawn over the 3D view, languages and type."""
