"""jwt_contract"""
