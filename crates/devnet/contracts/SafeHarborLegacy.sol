// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// firebreak's test stand-ins for the SEAL Safe Harbor registries and
// agreements before v3: the same read ABI (version(), getAgreement(adopter)
// returning the agreement's address, getDetails()), none of the validation,
// fallback or ownership logic. A v1 registry adopts details and deploys the
// agreement itself; the stand-in adopts an agreement deployed beforehand.

enum ChildContractScope { None, ExistingOnly, All, FutureOnly }
enum IdentityRequirements { Anonymous, Pseudonymous, Named }

struct Contact { string name; string contact; }

// v2 (registry version 1.1.0): the same tuple as v3
struct AccountV2 { string accountAddress; ChildContractScope childContractScope; }
struct ChainV2 { string assetRecoveryAddress; AccountV2[] accounts; string caip2ChainId; }
struct BountyTermsV2 {
    uint256 bountyPercentage;
    uint256 bountyCapUSD;
    bool retainable;
    IdentityRequirements identity;
    string diligenceRequirements;
    uint256 aggregateBountyCapUSD;
}
struct AgreementDetailsV2 {
    string protocolName;
    Contact[] contactDetails;
    ChainV2[] chains;
    BountyTermsV2 bountyTerms;
    string agreementURI;
}

// v1 (version 1.0.0)
struct AccountV1 { address accountAddress; ChildContractScope childContractScope; bytes signature; }
struct ChainV1 { address assetRecoveryAddress; AccountV1[] accounts; uint256 id; }
struct BountyTermsV1 {
    uint256 bountyPercentage;
    uint256 bountyCapUSD;
    bool retainable;
    IdentityRequirements identity;
    string diligenceRequirements;
}
struct AgreementDetailsV1 {
    string protocolName;
    Contact[] contactDetails;
    ChainV1[] chains;
    BountyTermsV1 bountyTerms;
    string agreementURI;
}

abstract contract EncodedDetails {
    // the details, ABI-encoded as getDetails() returns them
    bytes internal encoded;

    constructor(bytes memory encodedDetails) { encoded = encodedDetails; }

    function answer() internal view {
        bytes memory b = encoded;
        assembly { return(add(b, 32), mload(b)) }
    }
}

contract AgreementV2 is EncodedDetails {
    constructor(bytes memory encodedDetails) EncodedDetails(encodedDetails) {}

    function getDetails() external view returns (AgreementDetailsV2 memory d) {
        answer();
        return d;
    }
}

contract AgreementV1 is EncodedDetails {
    constructor(bytes memory encodedDetails) EncodedDetails(encodedDetails) {}

    function version() external pure returns (string memory) { return "1.0.0"; }

    function getDetails() external view returns (AgreementDetailsV1 memory d) {
        answer();
        return d;
    }
}

abstract contract LegacyRegistry {
    mapping(address => address) private agreements;

    error NoAgreement();

    function adoptSafeHarbor(address agreementAddress) external { agreements[msg.sender] = agreementAddress; }

    function getAgreement(address adopter) external view returns (address) {
        address a = agreements[adopter];
        if (a == address(0)) revert NoAgreement();
        return a;
    }
}

contract SafeHarborRegistryV2 is LegacyRegistry {
    function version() external pure returns (string memory) { return "1.1.0"; }
}

contract SafeHarborRegistryV1 is LegacyRegistry {
    function version() external pure returns (string memory) { return "1.0.0"; }
}
