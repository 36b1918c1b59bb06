"""Full screens: welcome (first run), main, profile, help."""
