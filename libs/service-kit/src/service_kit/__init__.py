"""service_kit"""
