"""Bedrock runtime Converse and ConverseStream, as boto3 calls them."""
