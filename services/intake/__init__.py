"""intake: registers petitions from every channel and issues their query codes (查询码)."""
