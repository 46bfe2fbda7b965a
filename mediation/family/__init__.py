"""The family's answer to the invitation letter: a link without login (issue #19)."""
