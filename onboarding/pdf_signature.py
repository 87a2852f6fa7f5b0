"""PAdES signatures with pyHanko: signing (the simulated provider) and verifying."""

import io
import logging

from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

logger = logging.getLogger(__name__)


def sign_pdf(pdf: bytes, key_pem: bytes, cert_pem: bytes, signer_name: str) -> bytes:
    """A PAdES signature in an invisible field "Handtekening", added as an incremental
    update: the bytes of the original PDF stay as they were."""
    certificate = _one_certificate(cert_pem)
    signer = signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=load_private_key_from_pemder_data(key_pem, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs([certificate]),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="Handtekening",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Akkoord met de aansluitovereenkomst van VECOZO",
        name=signer_name,
        location="Nederland",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()


def verify_pdf_signature(pdf: bytes, cert_pem: bytes) -> bool:
    """Whether the PDF holds exactly one signature, intact, valid, made with a
    certificate that ``cert_pem`` (the trust root) vouches for, and covering the whole
    file (nothing appended after signing)."""
    context = ValidationContext(trust_roots=[_one_certificate(cert_pem)], allow_fetching=False)
    try:
        found = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        if len(found) != 1:
            return False
        status = validate_pdf_signature(found[0], signer_validation_context=context)
    except (PdfError, ValueError):
        # Damaged so that the file or its signature cannot be read (asn1crypto parses
        # lazily and raises a plain ValueError; pyHanko's own errors are PdfError or
        # SignatureValidationError, a ValueError).
        return False
    except (AttributeError, KeyError, TypeError):
        # Seen when fuzzing the signature's bytes: pyHanko trips over some malformed
        # structures. Whatever the file is, it is not a verified signature.
        logger.warning("signature could not be validated", exc_info=True)
        return False
    return status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def _one_certificate(cert_pem: bytes):
    certificates = list(load_certs_from_pemder_data(cert_pem))
    if len(certificates) != 1:
        raise ValueError(f"expected one certificate, found {len(certificates)}")
    return certificates[0]
