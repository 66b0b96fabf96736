"""pydantic's ready-made constrained and special types, bare and with Field constraints."""
from typing import Annotated, Optional

import pydantic
from pydantic import Field

from prefect import flow


@flow
def more_pydantic_types(
    a: pydantic.NonNegativeFloat = 0.5,
    b: pydantic.NegativeFloat = -1.0,
    c: pydantic.NonPositiveFloat = 0.0,
    d: pydantic.NonPositiveInt = 0,
    e: pydantic.FiniteFloat = 1.0,
    f: pydantic.StrictBytes = b"x",
    g: pydantic.FutureDate = None,
    h: pydantic.PastDatetime = None,
    i: pydantic.FutureDatetime = None,
    j: pydantic.NaiveDatetime = None,
    k: pydantic.UUID1 = None,
    l: pydantic.UUID3 = None,
    m: pydantic.UUID5 = None,
    n: pydantic.Base64Bytes = None,
    o: pydantic.Base64UrlBytes = None,
    p: pydantic.Base64UrlStr = None,
    q: pydantic.SocketPath = None,
    r: pydantic.WebsocketUrl = None,
    s: pydantic.AnyWebsocketUrl = None,
    t: pydantic.FtpUrl = None,
    u: pydantic.PostgresDsn = None,
    v: pydantic.RedisDsn = None,
    w: pydantic.MongoDsn = None,
    x: pydantic.KafkaDsn = None,
    y: pydantic.MySQLDsn = None,
    z: pydantic.AmqpDsn = None,
    size: pydantic.ByteSize = 1024,
    pos: Annotated[pydantic.PositiveInt, Field(le=100)] = 1,
    nn: Annotated[pydantic.NonNegativeFloat, Field(lt=1.0)] = 0.0,
    url: Annotated[pydantic.HttpUrl, Field(max_length=100)] = None,
    maybe: Optional[pydantic.NonPositiveInt] = None,
):
    pass
