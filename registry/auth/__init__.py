"""Who is acting and what they may do: actors, roles, permissions, password hashing."""
