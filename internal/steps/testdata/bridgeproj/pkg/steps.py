class Helpers:
    @staticmethod
    def upper(text):
        return {"upper": text.upper()}
