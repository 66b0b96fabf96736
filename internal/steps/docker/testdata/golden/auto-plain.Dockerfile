FROM prefecthq/prefect:3.9.1-python3.11
COPY . /opt/prefect/flows/
WORKDIR /opt/prefect/flows/
