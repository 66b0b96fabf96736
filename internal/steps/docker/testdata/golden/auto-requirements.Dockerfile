FROM prefecthq/prefect:3.9.1-python3.12
COPY requirements.txt /opt/prefect/my project/requirements.txt
RUN uv pip install -r /opt/prefect/my project/requirements.txt
COPY . /opt/prefect/my project/
WORKDIR /opt/prefect/my project/
